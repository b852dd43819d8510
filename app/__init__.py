"""gatescope's web side: the FastAPI server, the page, and the `python -m app` command line."""
