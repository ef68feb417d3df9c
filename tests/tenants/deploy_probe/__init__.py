"""A throwaway migration for tests of deploy_migrate: MIGRATION_MODULES points portal_api (a
tenant app without migrations of its own) here, so every tenant schema has one to apply."""
