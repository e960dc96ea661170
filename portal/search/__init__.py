"""Search over what the public site shows (pages, events; news and courses as their rooms add them), and the
web's conventions built on the same index: the sitemap and robots.txt."""
