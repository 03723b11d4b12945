"""Record a file in the warehouse: audit row, findings and facts in one transaction."""
