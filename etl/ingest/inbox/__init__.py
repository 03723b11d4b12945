"""The shared folder's inbox: what is there, who claimed it, when it was first seen, its name as bytes."""
