"""The request and response bodies of the API, by part: they make the document at /openapi.json, from which the
frontend's types are generated."""
