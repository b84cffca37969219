from netcalc.cli.app import main

main()
