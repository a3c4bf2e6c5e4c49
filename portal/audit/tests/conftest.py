from portal.qualification.tests.fixtures import driver, team, workflow_core_only

__all__ = ["driver", "team", "workflow_core_only"]
