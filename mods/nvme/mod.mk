MODULES += nvme
