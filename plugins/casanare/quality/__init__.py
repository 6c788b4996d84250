"""Quality stage: Great Expectations Core 1.x suites and the MinTIC scorecard."""
