// Parse one e-mail (raw bytes on stdin) with nodemailer's mailparser and print what a non-Python reader sees.
import { simpleParser } from "mailparser";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const parsed = await simpleParser(Buffer.concat(chunks));
const headers = Object.fromEntries([...parsed.headers].map(([name, value]) => [name, value]));
process.stdout.write(JSON.stringify({
  subject: parsed.subject ?? null,
  from: parsed.from?.value ?? [],
  to: parsed.to?.value ?? [],
  messageId: parsed.messageId ?? null,
  list: headers.list ?? null,
  text: parsed.text ?? null,
  html: parsed.html || null,
  headerLines: parsed.headerLines.map((line) => line.line),
}));
