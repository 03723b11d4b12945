"""District reports pipeline: parse, validate and load district spreadsheets into the warehouse.

Everything here is plain Python that runs without a scheduler; the DAGs in ``dags/`` only wire it up.
"""
