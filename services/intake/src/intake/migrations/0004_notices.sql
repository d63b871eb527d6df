-- Written notices' document numbers (文号) without gaps, per issuing bureau and year: the counter
-- row is taken in the transaction that appends the intake.NoticeIssued event, so a notice that
-- fails rolls its number back.
CREATE TABLE intake.notice_numbers (
    bureau  text NOT NULL,
    year    integer NOT NULL,
    last    integer NOT NULL,
    PRIMARY KEY (bureau, year)
);

GRANT SELECT, INSERT, UPDATE ON intake.notice_numbers TO petitions_app;
