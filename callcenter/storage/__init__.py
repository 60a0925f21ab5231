"""Recording files (the store) and other file storage."""
