"""Reference data and the rules over it: places, reporting periods, working days, the reporting calendar."""
