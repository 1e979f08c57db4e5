"""Custom NLU components of Kestrel's assistant, loaded by Rasa from `config.yml` by module path."""
