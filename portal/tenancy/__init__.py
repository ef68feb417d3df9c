"""The business's standing on the platform, read from its own schema: the launch checklist,
health and usage for the platform console, and the plan's student limit with its grace
period. Platform-side rows (Tenant, Plan, Subscription) are tenants/'s."""
