"""The testing pages, one module per area: PIT (`pit`), the QT catalogue and RTTM (`catalogue`), the QT
plan, test set and readiness (`plan`), executions, defects, imports and reports (`execution`)."""
