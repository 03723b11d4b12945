"""Find the table, type its cells the way clerks write them, and say which cell is wrong."""
