from reunite.cli import main

main()
