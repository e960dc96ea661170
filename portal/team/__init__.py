"""Meet the Team: the society's committees (Executive Committee, Training Committee, Admin Team) and the people
on them, with their posts, photos and short biographies, edited by staff. When an Executive Committee election
is published, a committee can take its elected candidates and their posts, confirmed by a person."""
