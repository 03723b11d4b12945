"""Steward approval of district reports, as DHIS2 approves data: an approval unit is a report type ×
district × period; a steward approves or rejects its current version (or a replacement held while it was
locked) and may withdraw an approval with a reason.

  lock.py           an approved unit is locked: a new file for it is held, not swapped in
  units.py          which versions wait for a steward, which are approved (for withdrawal)
  decisions.py      approve / reject / unapprove, in one transaction each; the clerk's note and the alert
  steward_form.py   what the steward reads in Airflow's Required Actions (subject, Markdown body, options)
  airflow_tasks.py  the human-in-the-loop operators the district_approval and district_unapprove DAGs use

Leaders' views show approved figures only unless PUBLISH_UNAPPROVED (mart_published_load).
"""
