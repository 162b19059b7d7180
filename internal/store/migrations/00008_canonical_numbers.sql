-- Phone numbers in canonical form (store.CanonicalPhoneNumber). Before it, a
-- number written without its '+' ("15551234567", "1-555-123-4567") was stored
-- as a SIP user name, beside "+15551234567" in another account, and an
-- INVITE to 15551234567 reached it first. The store now canonicalises what it
-- writes and what it looks up; this rewrites the rows written before to '+'
-- and their digits when they are such a number: only digits and the
-- separators space - . ( ), 8 to 15 digits, the first not 0.
--
-- A row whose canonical form is already taken, by a row already in E.164 or
-- by an older row of the same digits, keeps its text: lookups canonicalise,
-- so it routes no more calls (the number is the other row's), and its account
-- can still see, rename or delete it. Nothing is deleted.
--
-- Portable SQL, as 00001: no regular expressions, so the separators and then
-- the digits are removed with REPLACE to check what is left.

-- +goose Up
CREATE TABLE number_canon (
    sid          TEXT   NOT NULL PRIMARY KEY,
    date_created BIGINT NOT NULL,
    digits       TEXT   NOT NULL
);

INSERT INTO number_canon (sid, date_created, digits)
SELECT sid, date_created,
       REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(
           TRIM(phone_number), ' ', ''), '-', ''), '.', ''), '(', ''), ')', '')
FROM incoming_phone_numbers
WHERE phone_number NOT LIKE '+%';

DELETE FROM number_canon
WHERE LENGTH(digits) < 8 OR LENGTH(digits) > 15 OR SUBSTR(digits, 1, 1) = '0'
   OR REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(
          digits, '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', ''), '6', ''), '7', ''), '8', ''), '9', '') <> '';

UPDATE incoming_phone_numbers
SET phone_number = (SELECT '+' || c.digits FROM number_canon c WHERE c.sid = incoming_phone_numbers.sid)
WHERE sid IN (
    SELECT c.sid FROM number_canon c
    WHERE NOT EXISTS (SELECT 1 FROM incoming_phone_numbers o WHERE o.phone_number = '+' || c.digits)
      AND NOT EXISTS (
          SELECT 1 FROM number_canon e
          WHERE e.digits = c.digits
            AND (e.date_created < c.date_created OR (e.date_created = c.date_created AND e.sid < c.sid))));

DROP TABLE number_canon;

-- +goose Down
-- Nothing to undo: the E.164 form is what the earlier schema stores for a
-- number given with its '+', and the old spellings are not kept.
