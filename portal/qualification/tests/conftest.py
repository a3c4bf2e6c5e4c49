from portal.qualification.tests.fixtures import driver, team

__all__ = ["driver", "team"]
