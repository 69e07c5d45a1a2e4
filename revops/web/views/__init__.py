"""Views, one module per area. Each is a thin function: parse the request, call
a selector or a service, render a template (or one of its partials for htmx)."""
