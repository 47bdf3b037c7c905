"""What intents can do beyond a template: one registry of actions (built-ins, then plugins from installed
packages, then webhooks), forms that ask for missing details, and the built-in skills' own code."""
