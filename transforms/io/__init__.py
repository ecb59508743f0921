"""Reading inputs and publishing outputs on any store: ``store`` (paths on local disks, gs://,
s3://), ``read`` (the Read stage), ``write`` (the Write stage) and ``commit`` (publishing a run).
"""
