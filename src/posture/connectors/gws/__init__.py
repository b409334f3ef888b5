"""Google Workspace connector: Admin SDK Directory and the Cloud Identity Policy API.

Reached through google-api-python-client with the discovery documents it ships (no
network fetch of discovery), a service account with domain-wide delegation and an admin
subject.
"""
