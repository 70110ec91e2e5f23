"""View-models: QObject state and orchestration; QtCore/QtGui only, never QtWidgets."""
