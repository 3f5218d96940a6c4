"""A case event kind of its own for a DNA identification (the reunion step), until now a note."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="caseevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("opened", "Case opened"),
                    ("assigned", "Investigator assigned"),
                    ("status", "Status changed"),
                    ("report_updated", "Report updated"),
                    ("note", "Note"),
                    ("identified", "Identified by DNA"),
                ],
                max_length=16,
                verbose_name="event",
            ),
        ),
    ]
