"""What leaves the warehouse for people: indicators, the review pack, alerts, blank templates."""
