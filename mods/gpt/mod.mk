MODULES += gpt
