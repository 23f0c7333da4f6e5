"""Standing orders: schedules that a partner controls, generated on schedule exactly once."""
