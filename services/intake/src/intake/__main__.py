from intake.main import run

run()
