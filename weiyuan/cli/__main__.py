from weiyuan.cli import main

main()
