"""The home page: the website's introduction with what is on now, gathered from the rooms below it."""
