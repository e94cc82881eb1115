"""aiosmtpd handler of the imq-output mail tests: stores mails in a Maildir
(aiosmtpd's Mailbox) and refuses recipients whose local part starts with
"reject" with a permanent 550, as a real server refuses an unknown user."""
from aiosmtpd.handlers import Mailbox


class Rejecting(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 <%s>: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"
