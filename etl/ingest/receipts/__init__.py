"""What the clerk gets back: the receipt, and a copy of their table that is safe to open."""
