from assignment.main import run

run()
