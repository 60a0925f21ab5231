"""One router module per concept; handlers stay thin and call services."""
