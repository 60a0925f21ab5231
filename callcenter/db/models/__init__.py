"""Every table of the platform, one module per concept; importing this registers them all."""

from callcenter.db.models.address_book import CorporateContact, PersonalContact
from callcenter.db.models.appeals import Appeal, AppealStatusHistory, AppealTopic
from callcenter.db.models.audit import AuditLogEntry
from callcenter.db.models.calls import Call, CallLeg, CallTransfer
from callcenter.db.models.campaigns import CallAttempt, Campaign, Contact, ContactList, DoNotCall
from callcenter.db.models.cluster import (
    ClusterNode,
    EmergencySwitch,
    NodeRequest,
    QueueCallbackRow,
    RedialJobRow,
)
from callcenter.db.models.customers import Customer, CustomerPhone, Locality
from callcenter.db.models.grid_applications import GridApplication
from callcenter.db.models.knowledge_base import CallScript, KbArticle
from callcenter.db.models.meter_readings import MeterReading
from callcenter.db.models.notify import MessageDelivery, NotifyJob
from callcenter.db.models.operators import Operator, OperatorStateHistory
from callcenter.db.models.outages import Outage
from callcenter.db.models.queues import Queue, QueueMember
from callcenter.db.models.recordings import Recording, RecordingAccessLog
from callcenter.db.models.reminders import Reminder
from callcenter.db.models.reports import (
    ReportCallBucket,
    ReportCallDay,
    ReportCallQuarter,
    ReportIntervalTotal,
    ReportLineBucket,
    ReportOperatorBucket,
    ReportOperatorDay,
    ReportRollupMark,
    SavedReport,
)
from callcenter.db.models.surveys import Survey, SurveyQuestion, SurveyResponse
from callcenter.db.models.telephony_events import TelephonyEvent
from callcenter.db.models.users import User
from callcenter.db.models.voicemails import Voicemail

__all__ = [
    "Appeal",
    "AppealStatusHistory",
    "AppealTopic",
    "AuditLogEntry",
    "Call",
    "CallAttempt",
    "CallLeg",
    "CallScript",
    "CallTransfer",
    "Campaign",
    "ClusterNode",
    "Contact",
    "ContactList",
    "CorporateContact",
    "Customer",
    "CustomerPhone",
    "DoNotCall",
    "EmergencySwitch",
    "GridApplication",
    "KbArticle",
    "Locality",
    "MessageDelivery",
    "MeterReading",
    "NodeRequest",
    "NotifyJob",
    "Operator",
    "OperatorStateHistory",
    "Outage",
    "PersonalContact",
    "Queue",
    "QueueCallbackRow",
    "QueueMember",
    "Recording",
    "RecordingAccessLog",
    "RedialJobRow",
    "Reminder",
    "ReportCallBucket",
    "ReportCallDay",
    "ReportCallQuarter",
    "ReportIntervalTotal",
    "ReportLineBucket",
    "ReportOperatorBucket",
    "ReportOperatorDay",
    "ReportRollupMark",
    "SavedReport",
    "Survey",
    "SurveyQuestion",
    "SurveyResponse",
    "TelephonyEvent",
    "User",
    "Voicemail",
]
