"""The engine: a pure planner (``_planner``) and the loop that sync and async drivers share."""
