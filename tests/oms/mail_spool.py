"""An e-mail backend for tests that run a real worker in another process: every message sent is one line
(recipient, tab, subject) appended to the file named by OMS_TEST_MAIL_SPOOL, so the test counts what left."""

import os

from django.core.mail.backends.base import BaseEmailBackend


class SpoolBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        lines = "".join(f"{','.join(m.to)}\t{' '.join(m.subject.split())}\n" for m in email_messages)
        with open(os.environ["OMS_TEST_MAIL_SPOOL"], "a", encoding="utf-8") as spool:
            spool.write(lines)
        return len(email_messages)
