"""Cloud Identity Policy API values of the demo customer: ``WEAK_SETTINGS`` are set on the
root org unit (and inherited by /IT and /Sales), ``HARDENED_SETTINGS`` on /Hardened.

Keys are setting types without the ``settings/`` prefix; values are the setting's value
object as the Policy API returns it. Settings absent from ``WEAK_SETTINGS`` keep Google's
defaults on the root org unit; ``HARDENED_SETTINGS`` sets every setting the policy library
reads to its recommended value.
"""

from __future__ import annotations

from typing import Any

WEAK_SETTINGS: dict[str, dict[str, Any]] = {
    "api_controls.google_services": {
        "services": [
            {"isEnabled": True, "scopesGroup": "DRIVE_HIGH_RISK"},
            {"isEnabled": True, "scopesGroup": "GMAIL_ALL"},
            {"isEnabled": True, "scopesGroup": "CHAT_HIGH_RISK"},
            {"isEnabled": True, "scopesGroup": "CLASSROOM_ALL"},
        ]
    },
    "calendar.external_invitations": {"warnOnInvite": False},
    "calendar.primary_calendar_max_allowed_external_sharing": {
        "maxAllowedExternalSharing": "EXTERNAL_ALL_INFO_READ_ONLY"
    },
    "chat.external_chat_restriction": {"allowExternalChat": True},
    "classroom.class_membership": {"whichClassesCanUsersJoin": "ANY_GOOGLE_WORKSPACE_CLASS"},
    "drive_and_docs.external_sharing": {
        "externalSharingMode": "ALLOWED",
        "warnForExternalSharing": False,
        "warnForSharingOutsideAllowlistedDomains": False,
    },
    "drive_and_docs.general_access_default": {
        "defaultFileAccess": "PRIMARY_AUDIENCE_WITH_LINK_OR_SEARCH"
    },
    "early_access_apps.service_status": {"serviceState": "ENABLED"},
    "gmail.email_attachment_safety": {
        "anomalousAttachmentProtectionConsequence": "WARNING",
        "attachmentWithScriptsProtectionConsequence": "SPAM_FOLDER",
        "enableAnomalousAttachmentProtection": True,
        "enableAttachmentWithScriptsProtection": True,
        "enableEncryptedAttachmentProtection": True,
        "encryptedAttachmentProtectionConsequence": "WARNING",
    },
    "gmail.email_spam_filter_ip_allowlist": {
        "allowedIpAddresses": ["203.0.113.0/24", "198.51.100.7"]
    },
    "gmail.enhanced_pre_delivery_message_scanning": {
        "enableImprovedSuspiciousContentDetection": False
    },
    "gmail.links_and_external_images": {"applyFutureSettingsAutomatically": False},
    "gmail.mail_delegation": {"enableMailDelegation": True},
    "gmail.spoofing_and_authentication": {
        "applyFutureSettingsAutomatically": False,
        "detectDomainNameSpoofing": True,
        "detectDomainSpoofingFromUnauthenticatedSenders": True,
        "detectEmployeeNameSpoofing": True,
        "detectGroupsSpoofing": True,
        "detectUnauthenticatedEmails": True,
        "domainNameSpoofingConsequence": "SPAM_FOLDER",
        "domainSpoofingConsequence": "SPAM_FOLDER",
        "employeeNameSpoofingConsequence": "WARNING",
        "groupsSpoofingConsequence": "QUARANTINE",
        "unauthenticatedEmailConsequence": "SPAM_FOLDER",
    },
    "groups_for_business.groups_sharing": {"newGroupsAreHidden": True},
    "groups_for_business.service_status": {"serviceState": "DISABLED"},
    "security.less_secure_apps": {"allowLessSecureApps": True},
    "security.super_admin_account_recovery": {"enableAccountRecovery": True},
    "security.two_step_verification_enforcement": {"enforcedFrom": "2025-06-01T00:00:00Z"},
    "security.two_step_verification_grace_period": {"enrollmentGracePeriod": "1209600s"},
    "workspace_marketplace.apps_access_options": {
        "accessLevel": "ALLOW_LISTED_APPS",
        "allowAllInternalApps": True,
    },
}

HARDENED_SETTINGS: dict[str, dict[str, Any]] = {
    "api_controls.google_services": {
        "services": [
            {"isEnabled": True, "scopesGroup": "DRIVE_ALL"},
            {"isEnabled": True, "scopesGroup": "GMAIL_ALL"},
            {"isEnabled": True, "scopesGroup": "CALENDAR_ALL"},
            {"isEnabled": True, "scopesGroup": "CONTACTS_ALL"},
            {"isEnabled": True, "scopesGroup": "GSUITE_ADMIN_ALL"},
            {"isEnabled": True, "scopesGroup": "VAULT_ALL"},
            {"isEnabled": True, "scopesGroup": "CLOUD_PLATFORM"},
            {"isEnabled": True, "scopesGroup": "CLOUD_BILLING"},
            {"isEnabled": True, "scopesGroup": "CLOUD_ML"},
            {"isEnabled": True, "scopesGroup": "APPS_SCRIPT_API"},
            {"isEnabled": True, "scopesGroup": "APPS_SCRIPT_RUNTIME"},
            {"isEnabled": True, "scopesGroup": "CLASSROOM_ALL"},
            {"isEnabled": True, "scopesGroup": "TASKS"},
            {"isEnabled": True, "scopesGroup": "GROUPS"},
            {"isEnabled": True, "scopesGroup": "CHAT"},
            {"isEnabled": True, "scopesGroup": "SIGN_IN"},
            {"isEnabled": True, "scopesGroup": "MEET"},
            {"isEnabled": True, "scopesGroup": "CLOUD_SEARCH"},
        ]
    },
    "api_controls.internal_apps": {"trustInternalApps": True},
    "api_controls.unconfigured_third_party_apps": {"accessLevel": "BLOCK_ALL_SCOPES"},
    "calendar.appointment_schedules": {"enablePayments": False},
    "calendar.external_invitations": {"warnOnInvite": True},
    "calendar.interoperability": {"enableInteroperability": False},
    "calendar.primary_calendar_max_allowed_external_sharing": {
        "maxAllowedExternalSharing": "EXTERNAL_FREE_BUSY_ONLY"
    },
    "calendar.secondary_calendar_max_allowed_external_sharing": {
        "maxAllowedExternalSharing": "EXTERNAL_FREE_BUSY_ONLY"
    },
    "chat.chat_apps_access": {"enableApps": False, "enableWebhooks": False},
    "chat.chat_external_spaces": {"enabled": False},
    "chat.chat_file_sharing": {
        "externalFileSharing": "NO_FILES",
        "internalFileSharing": "NO_FILES",
    },
    "chat.chat_history": {"allowUserModification": False, "historyOnByDefault": True},
    "chat.external_chat_restriction": {"allowExternalChat": False},
    "chat.space_history": {"historyState": "HISTORY_ALWAYS_ON"},
    "classroom.api_data_access": {"enableApiAccess": False},
    "classroom.class_membership": {
        "whichClassesCanUsersJoin": "CLASSES_IN_DOMAIN",
        "whoCanJoinClasses": "ANYONE_IN_DOMAIN",
    },
    "classroom.roster_import": {"rosterImportOption": False},
    "classroom.student_unenrollment": {"whoCanUnenrollStudents": "TEACHERS_ONLY"},
    "classroom.teacher_permissions": {"whoCanCreateClasses": "VERIFIED_TEACHERS_ONLY"},
    "drive_and_docs.drive_for_desktop": {"allowDriveForDesktop": False},
    "drive_and_docs.drive_sdk": {"enableDriveSdkApiAccess": False},
    "drive_and_docs.external_file_warning": {"highlightingEnabled": True},
    "drive_and_docs.external_sharing": {
        "accessCheckerSuggestions": "RECIPIENTS_ONLY",
        "allowNonGoogleInvites": False,
        "allowPublishingFiles": False,
        "allowReceivingFilesOutsideAllowlistedDomains": False,
        "allowedPartiesForDistributingContent": "ELIGIBLE_INTERNAL_USERS",
        "externalSharingMode": "ALLOWLISTED_DOMAINS",
        "warnForExternalSharing": True,
        "warnForSharingOutsideAllowlistedDomains": True,
    },
    "drive_and_docs.file_security_update": {
        "allowUsersToManageUpdate": False,
        "securityUpdate": "APPLY_TO_IMPACTED_FILES",
    },
    "drive_and_docs.general_access_default": {"defaultFileAccess": "PRIVATE_TO_OWNER"},
    "drive_and_docs.shared_drive_creation": {
        "allowManagersToOverrideSettings": False,
        "allowNonMemberAccess": False,
        "allowSharedDriveCreation": True,
        "allowedPartiesForDownloadPrintCopy": "EDITORS_ONLY",
    },
    "early_access_apps.service_status": {"serviceState": "DISABLED"},
    "gmail.auto_forwarding": {"enableAutoForwarding": False},
    "gmail.email_attachment_safety": {
        "anomalousAttachmentProtectionConsequence": "SPAM_FOLDER",
        "applyFutureRecommendedSettingsAutomatically": True,
        "attachmentWithScriptsProtectionConsequence": "QUARANTINE",
        "enableAnomalousAttachmentProtection": True,
        "enableAttachmentWithScriptsProtection": True,
        "enableEncryptedAttachmentProtection": True,
        "encryptedAttachmentProtectionConsequence": "SPAM_FOLDER",
    },
    "gmail.email_spam_filter_ip_allowlist": {"allowedIpAddresses": []},
    "gmail.enhanced_pre_delivery_message_scanning": {
        "enableImprovedSuspiciousContentDetection": True
    },
    "gmail.imap_access": {"enableImapAccess": False},
    "gmail.links_and_external_images": {
        "applyFutureSettingsAutomatically": True,
        "enableAggressiveWarningsOnUntrustedLinks": True,
        "enableExternalImageScanning": True,
        "enableShortenerScanning": True,
    },
    "gmail.mail_delegation": {"enableMailDelegation": False},
    "gmail.per_user_outbound_gateway": {"allowUsersToUseExternalSmtpServers": False},
    "gmail.pop_access": {"enablePopAccess": False},
    "gmail.spoofing_and_authentication": {
        "applyFutureSettingsAutomatically": True,
        "detectDomainNameSpoofing": True,
        "detectDomainSpoofingFromUnauthenticatedSenders": True,
        "detectEmployeeNameSpoofing": True,
        "detectGroupsSpoofing": True,
        "detectUnauthenticatedEmails": True,
        "domainNameSpoofingConsequence": "SPAM_FOLDER",
        "domainSpoofingConsequence": "SPAM_FOLDER",
        "employeeNameSpoofingConsequence": "SPAM_FOLDER",
        "groupsSpoofingConsequence": "SPAM_FOLDER",
        "unauthenticatedEmailConsequence": "SPAM_FOLDER",
    },
    "gmail.user_email_uploads": {"enableMailAndContactsImport": False},
    "gmail.workspace_sync_for_outlook": {"enableGoogleWorkspaceSyncForMicrosoftOutlook": False},
    "groups.service_status": {"serviceState": "DISABLED"},
    "groups_for_business.groups_sharing": {
        "collaborationCapability": "DOMAIN_USERS_ONLY",
        "createGroupsAccessLevel": "ADMIN_ONLY",
        "newGroupsAreHidden": False,
        "ownersCanAllowExternalMembers": False,
        "ownersCanAllowIncomingMailFromPublic": False,
        "ownersCanHideGroups": False,
        "viewTopicsDefaultAccessLevel": "GROUP_MEMBERS",
    },
    "groups_for_business.service_status": {"serviceState": "ENABLED"},
    "meet.automatic_recording": {"enabled": False},
    "meet.automatic_transcription": {"enabled": False},
    "meet.meet_joining": {"allowedAudience": "TRUSTED"},
    "meet.safety_access": {"meetingsAllowedToJoin": "ANY_WORKSPACE_ORGANIZATION"},
    "meet.safety_external_participants": {"enableExternalLabel": True},
    "meet.safety_host_management": {"enableHostManagement": True},
    "security.advanced_protection_program": {
        "enableAdvancedProtectionSelfEnrollment": True,
        "securityCodeOption": "ALLOWED_WITHOUT_REMOTE_ACCESS",
    },
    "security.less_secure_apps": {"allowLessSecureApps": False},
    "security.login_challenges": {"enableEmployeeIdChallenge": True},
    "security.password": {
        "allowReuse": False,
        "allowedStrength": "STRONG",
        "enforceRequirementsAtLogin": True,
        "expirationDuration": "0s",
        "maximumLength": 100,
        "minimumLength": 16,
    },
    "security.session_controls": {"webSessionDuration": "43200s"},
    "security.super_admin_account_recovery": {"enableAccountRecovery": False},
    "security.two_step_verification_device_trust": {"allowTrustingDevice": False},
    "security.two_step_verification_enforcement": {"enforcedFrom": "2025-06-01T00:00:00Z"},
    "security.two_step_verification_enforcement_factor": {"allowedSignInFactorSet": "PASSKEY_ONLY"},
    "security.two_step_verification_grace_period": {"enrollmentGracePeriod": "604800s"},
    "security.user_account_recovery": {"enableAccountRecovery": True},
    "sites.service_status": {"serviceState": "DISABLED"},
    "workspace_marketplace.apps_access_options": {
        "accessLevel": "ALLOW_LISTED_APPS",
        "allowAllInternalApps": False,
    },
}
