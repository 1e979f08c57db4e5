"""Custom actions of Kestrel's assistant; rasa_sdk registers every Action in this package."""
