"""Python fix handlers; every module here is imported when a handler is looked up."""
