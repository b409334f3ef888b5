"""Google Cloud connector: Resource Manager discovery of an organisation's projects, and the
APIs the ``scanners/gcp/`` specs name, through google-api-python-client with the discovery
documents it ships (no network fetch of discovery).

A connection signs in with a service-account key file or the application-default
credentials and reads one organisation (its ACTIVE projects, found through its folders) or
an explicit list of projects. Projects are collected concurrently.
"""
