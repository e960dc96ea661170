"""The society's public website: pages staff edit (with their revisions and attachments), the menu built from
the page tree, the footer, and the placeholder site a fresh install starts with."""
