"""Privacy stage (Ley 1581 de 2012): per-column rules, default deny, re-identification checks."""
