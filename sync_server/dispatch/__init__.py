"""交办 as the lead departments live it: the rules of a dispatched matter (`rules`), its
deadlines in working days (`deadlines`), a department's queue tabs (`queue`), who sees
a matter (`visibility`) and 撤回 (`undo`). Pure functions over triage entries."""
