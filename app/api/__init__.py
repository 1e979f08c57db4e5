"""The HTTP routes and websockets: the only modules that know the web framework's request objects.
Each reads a request, calls the services and flows below it, and answers; what it decides about the
domain lives there, not here."""
