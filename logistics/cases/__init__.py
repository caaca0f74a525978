"""Exception cases: scheduled detection (`rules`), cases and their playbook actions (`services`), the queue and
the knowledge base (`selectors`, `views`). Case types and default playbooks live in `types` (no database)."""
