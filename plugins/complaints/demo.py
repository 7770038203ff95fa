"""Demo data of the complaints plugin: to be written."""


def load_demo(ctx) -> None:
    """Departments, the vice general manager, scenario 5 and a year of complaints."""
