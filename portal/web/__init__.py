"""Generic web plumbing: request context, templating, CSRF, errors, forms. Imports no domain package."""
