"""The answer lesson's modern part (lessons/_modern_answer.py) when lessons 12 and 13 have not
run. Their quick runs, and the answer composed from them, are checked in test_lessons_quick.py
(LESSON_CHECKS, with modern_checks.py), so each lesson runs once per test session."""
from lessons._modern_answer import modern_sections


def test_modern_sections_say_when_a_lesson_has_not_run():
    paragraphs, rows = modern_sections({})
    assert "lesson 12 has not run" in paragraphs[0]
    assert any("lesson 13 has not run" in p for p in paragraphs)
    assert rows == []

